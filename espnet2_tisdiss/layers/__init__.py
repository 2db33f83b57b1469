"""Building blocks of the TISDiSS separator, one module per concept."""
