"""`cfglint verify`: the dynamic round-trip checker (imports and runs the code it checks)."""
