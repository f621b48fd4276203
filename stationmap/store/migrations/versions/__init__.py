"""One module per schema revision, in order; a package so the wheel ships them with the code."""
