/// A failure of Open MPI or of its use: the library is missing, or a named call failed.
public enum MPIError: Error, CustomStringConvertible, Equatable {
    /// `dlopen` could not load Open MPI's library.
    case libraryNotFound(path: String, reason: String)
    /// The library lacks a function or predefined handle this module needs.
    case missingSymbol(String, path: String)
    /// An MPI call returned an error code.
    case callFailed(String, code: Int32, message: String)
    /// A call was given arguments it cannot take (the call, and what was expected).
    case invalidArgument(String, String)

    public var description: String {
        switch self {
        case .libraryNotFound(let path, let reason):
            return "Open MPI not found (dlopen \(path): \(reason)): apt-get install libopenmpi3 openmpi-bin, "
                + "or point MODULA_MPI_LIBRARY at libmpi.so"
        case .missingSymbol(let name, let path):
            return "\(path) has no symbol \(name): ModulaMPI needs Open MPI 4 or later (libmpi.so.40)"
        case .callFailed(let call, let code, let message):
            return "\(call) failed with error \(code): \(message)"
        case .invalidArgument(let call, let problem):
            return "\(call): \(problem)"
        }
    }
}
