"""全总随机电话抽查: the national federation's random phone spot check of helped households."""
