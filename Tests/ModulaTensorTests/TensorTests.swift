import Testing
@testable import ModulaTensor
