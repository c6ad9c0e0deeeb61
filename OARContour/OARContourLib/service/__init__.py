"""The DICOM node: receive CT series, contour them with the core pipeline, hold them for review, send RTSTRUCTs.

``config`` and ``ledger`` need only the standard library; ``intake`` and ``sender`` need pynetdicom
(the ``service`` extra). Nothing here imports the Slicer Logic: the service calls the core.
"""
