"""Each book section's figures, one module per section (drawn from its experiments' results)."""
