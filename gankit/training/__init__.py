"""The training loop (``loop``) and what it calls: sampling and evaluation (``sampling``),
checkpoints and restore (``checkpoint``), run directories, their lock and the resume
bookkeeping (``rundir``), the logs (``logs``), data-parallel training (``distributed``); and
opening a trained run (``run``)."""
