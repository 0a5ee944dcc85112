"""Files: posterior draws (NetCDF via ArviZ) and atomic writes."""

from bayesprune.io.posterior import load_posterior, save_posterior, to_inference_data

__all__ = ["load_posterior", "save_posterior", "to_inference_data"]
