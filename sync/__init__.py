"""Everything that talks to Canvas or Infinite Campus, or moves data between them."""
