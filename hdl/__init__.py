"""spinaps.hdl"""
