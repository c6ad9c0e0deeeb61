"""De-identification of CTs leaving the hospital and re-identification of the RTSTRUCTs coming back.

:mod:`.profile` holds the PS3.15 Annex E options, :mod:`.map_store` the reversible map (kept only
at the hospital), :mod:`.deidentify` and :mod:`.reidentify` the two directions. dicognito (the
``service`` extra) is imported only when a CT is de-identified.
"""
