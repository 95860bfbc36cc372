"""The defaults the command line shows in its help, apart so that building the parser loads nothing else."""

DEFAULT_MAX_FILES = 30  # commits touching more files are left out of change coupling
DEFAULT_HALF_LIFE_DAYS = 0.0  # no wall-clock decay by default: the per-file change half-life does better
