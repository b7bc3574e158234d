"""voxcli: speech to text from the command line with Mistral's Voxtral models."""

__version__ = "0.1.0"
