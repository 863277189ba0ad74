"""Schemas for tools: from Python types and signatures, explicit ones made strict, checks of
strictness, and validation of the arguments a model sends."""
