import Foundation
import Testing
@testable import Modula

// The code of the DocC articles in Sources/Modula/Modula.docc, so that the documentation cannot drift from the API.
// Each suite names the article it mirrors; code is copied from the article, with sizes reduced where
// the article uses production sizes (debug builds run kernels far slower than release builds).
// Printed outputs quoted in the articles are checked here too. One file per article:
// DocumentationExamplesTests+<Article>.swift; the training-loop article, which needs ModulaData, is checked in
// Tests/ModulaDataTests/TrainingLoopArticleTests.swift.

/// One suite per article; run them with `swift test --filter DocumentationExamples`.
@Suite("Documentation examples")
struct DocumentationExamplesTests {}
