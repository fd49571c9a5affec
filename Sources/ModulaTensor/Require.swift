// Contract checks that keep their message in release builds.
//
// `precondition` drops its message under `-O` (the process stops with a bare trap); `fatalError`
// keeps it. Every contract a caller can violate goes through these two functions, so that the
// message naming the operation and what was expected reaches standard error in every build.

/// Stops the process with `message` on standard error unless `condition` holds, in every build
/// configuration.
///
/// The message is an autoclosure and the check is inlined: a passing check builds no string and
/// costs one comparison.
@inlinable @inline(__always)
package func require(
    _ condition: @autoclosure () -> Bool, _ message: @autoclosure () -> String,
    file: StaticString = #fileID, line: UInt = #line
) {
    if _slowPath(!condition()) { requirementFailure(message(), file: file, line: line) }
}

/// Stops the process with `message` on standard error, in every build configuration.
@inlinable @inline(never)
package func requirementFailure(_ message: String, file: StaticString = #fileID, line: UInt = #line) -> Never {
    fatalError(message, file: file, line: line)
}
