"""Tests of hrm_studio.model: the HRM ACT v1 model, its layers, losses and puzzle embedding."""
