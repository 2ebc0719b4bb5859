"""The answer engine: from a question and retrieved passages to a cited answer, independent of any front."""
