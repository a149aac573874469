"""Turns a model and handwriting lines into the static article in site/."""
