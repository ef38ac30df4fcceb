"""The map wall (挂图作战): every case on the map at city scale, live.

Owns map-view clusters and points (``clusters``), the ``wall_cells`` summary that answers a
city view without reading a million cases (``cells``), the live event stream (``events``),
the wall's layers (``layers``) and its panels (``panels``).
"""
