"""The training loop (``loop``), checkpoints, run directories and their lock (``rundir``), the
logs, opening a trained run (``run``) and data-parallel training (``distributed``)."""
