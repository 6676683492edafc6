"""Near-duplicate detection: group ids for leakage-free splits, curation, and a
train-only sampler."""

from ._groups import DuplicateReport, drop_duplicates, duplicate_groups
from ._sampler import DuplicateRemover

__all__ = ["DuplicateRemover", "DuplicateReport", "drop_duplicates", "duplicate_groups"]
