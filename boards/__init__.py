"""spinaps.boards"""
