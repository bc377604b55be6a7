"""The model: SimPy processes, pools and stock, clocks, records, calendar, case-keyed streams. No I/O."""
