"""The handwriting model and its data: Graves (2013), "Generating Sequences With Recurrent
Neural Networks", section 4.2, as used by Carter, Ha, Johnson and Olah (Distill, 2016)."""
