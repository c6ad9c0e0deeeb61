"""Derived structures: PRV margins, rings, Boolean combinations and mask clean-up, with TG-263 names.

* :mod:`.margins`: :func:`expand`, :func:`shrink`, :func:`ring`, in mm on anisotropic grids, and\n  :func:`spacing_kji` (array-order spacing of an ``ImageGeometry``);
* :mod:`.directional`: :func:`expand_directional`, :func:`shrink_directional` by a
  :class:`DirectionalMargin` (anterior, posterior, left, right, superior, inferior mm), mapped to
  array axes through the image orientation;
* :mod:`.booleans`: :func:`union`, :func:`intersect`, :func:`subtract`, :func:`crop_to`;
* :mod:`.cleanup`: :func:`remove_islands` (mm³), :func:`fill_holes`, volume-preserving :func:`smooth`;
* :mod:`.names`: :func:`prv_name`, :func:`directional_prv_name`, :func:`ring_name`, :func:`subtraction_name`,
  :func:`describe`;
* :mod:`.recipes`: :func:`parse_recipe` (``SpinalCord:5``, ``CTV:7,post=5``, ``PTV:5:15``, ``Lungs:GTV``) and
  :func:`apply_recipes` → :class:`DerivedResult`.

Masks are boolean (k, j, i) arrays on the CT grid; spacing is (slice, row, column) in mm, i.e. the
reverse of :attr:`~OARContourLib.ct.model.ImageGeometry.spacing_mm`. Nothing here imports Slicer.
"""

from __future__ import annotations

from .booleans import crop_to, intersect, subtract, union
from .cleanup import fill_holes, remove_islands, smooth
from .directional import DirectionalMargin, PatientDirection, expand_directional, shrink_directional
from .margins import expand, ring, shrink, spacing_kji
from .names import DerivedName, describe, directional_prv_name, prv_name, ring_name, subtraction_name
from .recipes import (
    DerivedResult,
    DirectionalPrvRecipe,
    PrvRecipe,
    Recipe,
    RingRecipe,
    SubtractRecipe,
    apply_recipes,
    parse_recipe,
    parse_recipes,
)

__all__ = ["DerivedName", "DerivedResult", "DirectionalMargin", "DirectionalPrvRecipe", "PatientDirection", "PrvRecipe",
           "Recipe", "RingRecipe", "SubtractRecipe", "apply_recipes", "crop_to", "describe", "directional_prv_name",
           "expand", "expand_directional", "fill_holes", "intersect", "parse_recipe", "parse_recipes", "prv_name",
           "remove_islands", "ring", "ring_name", "shrink", "shrink_directional", "smooth", "spacing_kji", "subtract",
           "subtraction_name", "union"]
