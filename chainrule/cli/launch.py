"""``chainrule launch -n N COMMAND...``: start N processes through the installed ``mpiexec``.

A thin wrapper, as torchrun is for torch: ``chainrule launch -n 2 train --distributed ...`` runs
``mpiexec -n 2 python -m mpi4py -m chainrule train --distributed ...``, and
``chainrule launch -n 2 script.py ARGS`` runs ``mpiexec -n 2 python -m mpi4py script.py ARGS``
(``python -m mpi4py`` ends every rank with MPI_Abort when one raises). Each process gets
``--threads`` BLAS/OpenMP threads (default 1, as torchrun), unless the environment already sets
them. On a cluster, call the site's launcher (mpiexec, srun) directly: nothing here is needed.

Exit status: mpiexec's; 2 when no mpiexec is found or the arguments are wrong.
"""
import os
import shlex
import shutil
import subprocess
import sys

_THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


def add_arguments(p):
    p.add_argument("-n", "--nproc", type=int, required=True, help="number of processes")
    p.add_argument("--threads", type=int, default=1, help="BLAS/OpenMP threads per process (default: 1)")
    p.add_argument("--mpiexec", default=None, help="the MPI launcher (default: $CHAINRULE_MPIEXEC, then mpiexec "
                                                   "on PATH or next to this Python)")
    p.add_argument("--dry-run", action="store_true", help="print the command instead of running it")
    p.add_argument("command", nargs="...", metavar="COMMAND",
                   help="a chainrule subcommand and its arguments (train ...), or a script.py and its arguments")


def find_mpiexec(given=None):
    """The launcher to use: ``given``, $CHAINRULE_MPIEXEC, mpiexec on PATH, then the one beside
    this Python (the mpich wheel installs it there); None when there is none."""
    for candidate in (given, os.environ.get("CHAINRULE_MPIEXEC")):
        if candidate:
            return shutil.which(candidate) or (candidate if os.path.isfile(candidate) else None)
    found = shutil.which("mpiexec")
    if found:
        return found
    beside = os.path.join(os.path.dirname(sys.executable), "mpiexec")
    return beside if os.path.isfile(beside) else None


def command_line(mpiexec, nproc, command):
    """The full mpiexec command for ``command`` (a chainrule subcommand or a script)."""
    runner = [sys.executable, "-m", "mpi4py"]
    if command[0].endswith(".py") or os.sep in command[0]:  # a script path; else a chainrule subcommand
        return [mpiexec, "-n", str(nproc), *runner, *command]
    return [mpiexec, "-n", str(nproc), *runner, "-m", "chainrule", *command]


def run(args):
    command = [c for c in args.command if c != "--"] if args.command[:1] == ["--"] else list(args.command)
    if not command:
        print("chainrule launch: error: give a chainrule subcommand (e.g. train ...) or a script.py to run",
              file=sys.stderr)
        return 2
    if args.nproc < 1:
        print(f"chainrule launch: error: -n must be at least 1, got {args.nproc}", file=sys.stderr)
        return 2
    mpiexec = find_mpiexec(args.mpiexec)
    if mpiexec is None:
        print("chainrule launch: error: no mpiexec found; pip install 'chainrule[distributed]' (mpi4py and the "
              "mpich wheel, which provides mpiexec) or pass --mpiexec", file=sys.stderr)
        return 2
    argv = command_line(mpiexec, args.nproc, command)
    if args.dry_run:
        print(shlex.join(argv))
        return 0
    env = dict(os.environ)
    for var in _THREAD_VARS:
        env.setdefault(var, str(args.threads))
    proc = subprocess.Popen(argv, env=env)
    try:
        return proc.wait()
    except KeyboardInterrupt:
        proc.terminate()
        return proc.wait()
