"""spinaps.sim"""
