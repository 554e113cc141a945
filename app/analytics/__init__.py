"""What the managers' analytics derive from calls: sentiment and satisfaction, scored at hang-up."""
