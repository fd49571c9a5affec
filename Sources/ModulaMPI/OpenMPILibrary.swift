#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Open MPI's C entry points and predefined handles, resolved at run time with `dlopen`/`dlsym`.
///
/// Nothing links against MPI, so the package builds and its other products run where Open MPI is not installed.
/// Open MPI's predefined handles (`MPI_COMM_WORLD`, `MPI_FLOAT`, `MPI_SUM`, …) are the addresses of exported globals
/// (`ompi_mpi_comm_world`, `ompi_mpi_float`, `ompi_mpi_op_sum`), and `MPI_IN_PLACE` is `(void *)1` (its `mpi.h`).
final class OpenMPILibrary: @unchecked Sendable {
    typealias Handle = UnsafeMutableRawPointer
    typealias Init = @convention(c) (UnsafeMutableRawPointer?, UnsafeMutableRawPointer?) -> Int32
    typealias NoArguments = @convention(c) () -> Int32
    typealias IntQuery = @convention(c) (UnsafeMutablePointer<Int32>) -> Int32
    typealias CommIntQuery = @convention(c) (Handle, UnsafeMutablePointer<Int32>) -> Int32
    typealias CommOnly = @convention(c) (Handle) -> Int32
    typealias CommInt = @convention(c) (Handle, Int32) -> Int32
    typealias CommHandle = @convention(c) (Handle, Handle) -> Int32
    typealias Allreduce = @convention(c) (UnsafeRawPointer?, UnsafeMutableRawPointer?, Int32, Handle, Handle, Handle) -> Int32
    typealias Bcast = @convention(c) (UnsafeMutableRawPointer?, Int32, Handle, Int32, Handle) -> Int32
    typealias Allgather = @convention(c) (
        UnsafeRawPointer?, Int32, Handle, UnsafeMutableRawPointer?, Int32, Handle, Handle) -> Int32
    typealias Allgatherv = @convention(c) (
        UnsafeRawPointer?, Int32, Handle, UnsafeMutableRawPointer?, UnsafePointer<Int32>, UnsafePointer<Int32>,
        Handle, Handle) -> Int32
    typealias ErrorString = @convention(c) (Int32, UnsafeMutablePointer<CChar>, UnsafeMutablePointer<Int32>) -> Int32

    let initialize: Init
    let finalize: NoArguments
    let initialized: IntQuery
    let finalized: IntQuery
    let commRank: CommIntQuery
    let commSize: CommIntQuery
    let barrier: CommOnly
    let abort: CommInt
    let setErrorHandler: CommHandle
    let allreduce: Allreduce
    let bcast: Bcast
    let allgather: Allgather
    let allgatherv: Allgatherv
    let errorString: ErrorString

    let commWorld: Handle
    let float: Handle
    let double: Handle
    let int64: Handle
    let sum: Handle
    let max: Handle
    let errorsReturn: Handle
    /// `MPI_IN_PLACE` in Open MPI's `mpi.h`.
    let inPlace = UnsafeMutableRawPointer(bitPattern: 1)!

    /// The library this process has loaded, or the error that loading it gave.
    static let shared: Result<OpenMPILibrary, MPIError> = Result { try OpenMPILibrary() }.mapError { $0 as! MPIError }

    /// The file `dlopen` tries: `MODULA_MPI_LIBRARY` when set, else Open MPI's soname.
    static var path: String {
        if let p = getenv("MODULA_MPI_LIBRARY"), p.pointee != 0 { return String(cString: p) }
        return "libmpi.so.40"
    }

    private init() throws {
        let path = Self.path
        // RTLD_GLOBAL: Open MPI's own plugins (mca_*.so), which it dlopens, resolve symbols of libmpi.
        guard let lib = dlopen(path, RTLD_NOW | RTLD_GLOBAL) else {
            let why = dlerror().map { String(cString: $0) } ?? "unknown reason"
            throw MPIError.libraryNotFound(path: path, reason: why)
        }
        func symbol(_ name: String) throws -> UnsafeMutableRawPointer {
            guard let p = dlsym(lib, name) else { throw MPIError.missingSymbol(name, path: path) }
            return p
        }
        func function<F>(_ name: String, _: F.Type) throws -> F { unsafeBitCast(try symbol(name), to: F.self) }
        initialize = try function("MPI_Init", Init.self)
        finalize = try function("MPI_Finalize", NoArguments.self)
        initialized = try function("MPI_Initialized", IntQuery.self)
        finalized = try function("MPI_Finalized", IntQuery.self)
        commRank = try function("MPI_Comm_rank", CommIntQuery.self)
        commSize = try function("MPI_Comm_size", CommIntQuery.self)
        barrier = try function("MPI_Barrier", CommOnly.self)
        abort = try function("MPI_Abort", CommInt.self)
        setErrorHandler = try function("MPI_Comm_set_errhandler", CommHandle.self)
        allreduce = try function("MPI_Allreduce", Allreduce.self)
        bcast = try function("MPI_Bcast", Bcast.self)
        allgather = try function("MPI_Allgather", Allgather.self)
        allgatherv = try function("MPI_Allgatherv", Allgatherv.self)
        errorString = try function("MPI_Error_string", ErrorString.self)
        commWorld = try symbol("ompi_mpi_comm_world")
        float = try symbol("ompi_mpi_float")
        double = try symbol("ompi_mpi_double")
        int64 = try symbol("ompi_mpi_int64_t")
        sum = try symbol("ompi_mpi_op_sum")
        max = try symbol("ompi_mpi_op_max")
        errorsReturn = try symbol("ompi_mpi_errors_return")
    }

    /// Throws ``MPIError/callFailed(_:code:message:)`` unless `code` is `MPI_SUCCESS` (0).
    func check(_ call: String, _ code: Int32) throws {
        guard code != 0 else { return }
        var buffer = [CChar](repeating: 0, count: 512)  // MPI_MAX_ERROR_STRING is 256 in Open MPI
        var length: Int32 = 0
        let message = errorString(code, &buffer, &length) == 0 ? String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self) : "error code \(code)"
        throw MPIError.callFailed(call, code: code, message: message)
    }
}
