"""Calls domain: a call's lifecycle and its conversation (no telephony or database imports)."""
