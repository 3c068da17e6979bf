"""Report artefacts of a run: sample grids (PNG) and loss/metric curves (PNG)."""
from gankit.report.curves import plot_losses, plot_metric_curves
from gankit.report.grid import grid_array, save_grid

__all__ = ["grid_array", "plot_losses", "plot_metric_curves", "save_grid"]
