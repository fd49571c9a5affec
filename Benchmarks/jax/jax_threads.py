"""Thread settings for the JAX references, applied before JAX is imported (XLA reads its flags when it loads)."""
import os


def pin_threads(threads):
    """`threads` 1 pins the process to one CPU and turns off XLA's multithreaded Eigen; 0 (or more) keeps JAX's
    default. Returns the number of CPUs the process may use."""
    if threads == 1:
        os.environ["XLA_FLAGS"] = (os.environ.get("XLA_FLAGS", "") +
                                   " --xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1")
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})
    return threads if threads else len(os.sched_getaffinity(0))
