"""spinaps.sw"""
