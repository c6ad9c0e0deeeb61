"""Hounsfield units of the phantom's tissues (non-contrast CT, 120 kVp).

Values are typical adult means from the radiology literature, rounded; noise and a mild in-plane
blur are added later by :mod:`.image`, so these are the noiseless plateau values.
"""

from __future__ import annotations

#: Air outside and inside the patient (airways, sinuses).
AIR = -1000.0
#: Scanner padding outside the reconstruction circle (stored -2000 with intercept -1024, as GE does).
PADDING = -3024.0
#: Lowest and highest HU a CT stores with a 12-bit detector range and intercept -1024.
HU_MIN = -1024.0
HU_MAX = 3071.0

LUNG = -850.0
FAT = -100.0
VISCERAL_FAT = -90.0
ORBITAL_FAT = -80.0
SKIN = 50.0
MUSCLE = 45.0
SOFT_TISSUE = 40.0
BLOOD = 40.0
HEART = 40.0
LIVER = 60.0
SPLEEN = 45.0
KIDNEY = 35.0
URINE = 5.0
BILE = 10.0
STOMACH_CONTENT = 20.0
CSF = 10.0
BRAIN_GREY = 38.0
BRAIN_WHITE = 28.0
BRAINSTEM = 33.0
NERVE = 35.0
SPINAL_CORD = 35.0
EYE = 10.0
LENS = 60.0
PAROTID = 15.0
THYROID = 90.0
DISC = 80.0
CARTILAGE = 150.0
CORTICAL_BONE = 1000.0
CANCELLOUS_BONE = 230.0
DIPLOE = 550.0
TOOTH = 2200.0

#: Couch: carbon-fibre shell and its foam core (both outside the patient).
COUCH_SHELL = 450.0
COUCH_FOAM = -880.0

#: Dependent lung is denser: HU gained per mm toward the couch (about +40 HU across a lung).
LUNG_GRAVITY_HU_PER_MM = 0.25
