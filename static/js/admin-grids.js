// Admin grids page: every imported grid drawn from the database (no base-map tiles needed).
import { gridMap } from "./desk-map.js";

gridMap(document.getElementById("grid-map"));
