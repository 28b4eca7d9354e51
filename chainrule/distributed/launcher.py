"""What the launcher tells a process about itself, before any process group exists."""
import os


def launched_by_mpi():
    """True when this process was started by an MPI launcher (mpiexec, mpirun, srun with PMI)."""
    return any(k in os.environ for k in ("PMI_RANK", "PMI_SIZE", "PMIX_RANK", "OMPI_COMM_WORLD_RANK",
                                         "MPI_LOCALRANKID", "HYDRA_CONTROL_FD"))
