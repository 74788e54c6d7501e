"""Qt-free drawing facts shared by the window's grid viewer and the image exports."""
