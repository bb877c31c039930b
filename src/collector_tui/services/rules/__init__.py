"""Rules: compliance packs (when and how a debtor may be contacted), dispositions and the score."""
