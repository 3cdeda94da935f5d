"""What the board reads: the dashboard's figures, the trend and the board pack."""
