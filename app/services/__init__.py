"""The rules of Firstline. No Flask request code lives here."""
