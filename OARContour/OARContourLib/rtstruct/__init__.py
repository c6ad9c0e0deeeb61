"""DICOM RT Structure Set geometry: voxel-boundary contours, hole encodings and rasterisation."""
