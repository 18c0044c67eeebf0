"""The book's glue: papermill parameters and profiles, figure style and drawing."""
