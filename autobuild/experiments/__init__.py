"""What the book's notebooks run, one module per paper section, and the experiment drivers they share
(construction against the labelled front, NAS comparisons, the SD-mini inpainting stand-in)."""
