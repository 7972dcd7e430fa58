"""Label codes, scanning, label rendering (SVG, PNG, PDF sheets, ZPL) and the register of label printers."""
