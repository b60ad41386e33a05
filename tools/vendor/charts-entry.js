// The charts bundle's entry: Chart.js (bar and scatter charts only) and d3-force, exposed as window.FwgraphCharts.
import {
  Chart, BarController, BarElement, ScatterController, PointElement, CategoryScale, LinearScale, Tooltip,
} from "chart.js";

Chart.register(BarController, BarElement, ScatterController, PointElement, CategoryScale, LinearScale, Tooltip);

export { Chart };
export { forceSimulation, forceLink, forceManyBody, forceCenter, forceCollide, forceX, forceY } from "d3-force";
