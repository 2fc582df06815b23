// The coherence pages' own drawings: the score over the years, the board's
// scores by country (vendored Chart.js) and the collaboration network
// (vendored Cytoscape.js). Data comes from the page's JSON blocks
// (json_script), so there is no inline script; every drawing has a table on
// the page with the same figures. dashboard.js draws the bar charts the two
// pages share with the dashboard and applies the year and basis controls.
(function () {
  "use strict";

  var html = document.documentElement;
  var lang = html.lang || "en";

  function cssVar(name) {
    return getComputedStyle(html).getPropertyValue(name).trim();
  }
  function seriesColour(n) {
    return cssVar("--dash-series-" + n) || "#00689d";
  }
  function readJson(id) {
    var source = document.getElementById(id);
    return source ? JSON.parse(source.textContent) : null;
  }
  var reduceMotion = window.matchMedia("(prefers-reduced-motion: reduce)").matches;
  var whole = new Intl.NumberFormat(lang, { maximumFractionDigits: 0 });
  var money = new Intl.NumberFormat(lang, {
    style: "currency",
    currency: "USD",
    notation: "compact",
    maximumFractionDigits: 1,
  });

  // --- charts --------------------------------------------------------------------

  var markDrawn = {
    id: "unportalCoherenceDrawn",
    afterRender: function (chart) {
      chart.canvas.setAttribute("data-drawn", "true");
    },
  };

  function percentAxis(title) {
    return {
      min: 0,
      max: 100,
      title: { display: true, text: title },
      ticks: {
        stepSize: 25,
        callback: function (value) {
          return value + " %";
        },
      },
    };
  }

  function percentLabel(item) {
    var value = item.raw === null ? "—" : whole.format(item.raw) + " %";
    return " " + item.dataset.label + ": " + value;
  }

  var builders = {
    // The score (thick, dark) and its five parts over the years.
    trend: function (data) {
      return {
        type: "line",
        data: {
          labels: data.labels,
          datasets: data.datasets.map(function (dataset) {
            var colour = dataset.score
              ? cssVar("--navy") || "#142638"
              : seriesColour(dataset.series);
            return {
              label: dataset.label,
              data: dataset.data,
              borderColor: colour,
              backgroundColor: colour,
              borderWidth: dataset.score ? 4 : 2,
              borderDash: dataset.score ? [] : [6, 3],
              pointRadius: dataset.score ? 5 : 3,
              pointStyle: dataset.score ? "rectRot" : "circle",
              spanGaps: false,
              tension: 0,
            };
          }),
        },
        options: {
          interaction: { mode: "index", intersect: false },
          plugins: {
            legend: { position: "bottom" },
            tooltip: { callbacks: { label: percentLabel } },
          },
          scales: { y: percentAxis(data.axis), x: { grid: { display: false } } },
        },
      };
    },

    // One bar per country team, highest score first.
    scores: function (data) {
      return {
        type: "bar",
        data: {
          labels: data.labels,
          datasets: [
            {
              label: data.datasets[0].label,
              data: data.datasets[0].data,
              backgroundColor: seriesColour(1),
              borderRadius: 3,
              maxBarThickness: 26,
            },
          ],
        },
        options: {
          indexAxis: "y",
          plugins: {
            legend: { display: false },
            tooltip: { callbacks: { label: percentLabel } },
          },
          scales: { x: percentAxis(data.axis), y: { grid: { display: false } } },
        },
      };
    },
  };
  var rowHeight = { scores: 38 };

  if (typeof window.Chart !== "undefined") {
    var Chart = window.Chart;
    Chart.defaults.font.family = getComputedStyle(document.body).fontFamily;
    Chart.defaults.maintainAspectRatio = false;
    Chart.defaults.animation = reduceMotion ? false : { duration: 350 };
    document.querySelectorAll("canvas[data-chart]").forEach(function (canvas) {
      var build = builders[canvas.getAttribute("data-chart")];
      var data = readJson(canvas.getAttribute("data-source"));
      if (!build || !data) return;
      var perRow = rowHeight[data.kind];
      if (perRow) {
        canvas.parentElement.style.height =
          Math.max(220, data.labels.length * perRow + 90) + "px";
      }
      var config = build(data);
      config.plugins = [markDrawn];
      new Chart(canvas, config);
    });
  }

  // --- the collaboration network ------------------------------------------------------

  function drawNetwork(box) {
    var data = readJson(box.getAttribute("data-network"));
    if (!data || typeof window.cytoscape === "undefined") return;
    var most = Math.max.apply(
      null,
      data.nodes.map(function (node) {
        return node.spent;
      }).concat([1])
    );
    var strongest = Math.max.apply(
      null,
      data.links.map(function (link) {
        return link.activities + link.programmes;
      }).concat([1])
    );
    var elements = data.nodes
      .map(function (node) {
        return {
          group: "nodes",
          data: {
            id: node.id,
            label: node.label,
            // Area, not radius, follows the money.
            size: 28 + 42 * Math.sqrt(node.spent / most),
            resident: node.resident ? "yes" : "no",
            title: node.name + ": " + money.format(node.spent),
          },
        };
      })
      .concat(
        data.links.map(function (link, i) {
          var weight = link.activities + link.programmes;
          return {
            group: "edges",
            data: {
              id: "link-" + i,
              source: link.source,
              target: link.target,
              width: 1.5 + 6 * (weight / strongest),
              kind: link.activities ? "activities" : "programmes",
            },
          };
        })
      );
    var navy = cssVar("--navy") || "#142638";
    var accent = seriesColour(1);
    var graph = window.cytoscape({
      container: box,
      elements: elements,
      layout: { name: "circle", padding: 24, sort: function (a, b) {
        return b.degree() - a.degree();
      } },
      userZoomingEnabled: false,
      userPanningEnabled: false,
      boxSelectionEnabled: false,
      autoungrabify: false,
      style: [
        {
          selector: "node",
          style: {
            width: "data(size)",
            height: "data(size)",
            "background-color": accent,
            "border-width": 2,
            "border-color": navy,
            label: "data(label)",
            color: navy,
            "font-size": 12,
            "font-weight": 600,
            "text-valign": "bottom",
            "text-margin-y": 4,
            "text-background-color": "#ffffff",
            "text-background-opacity": 0.85,
            "text-background-padding": 2,
          },
        },
        {
          selector: "node[resident = 'no']",
          style: { "border-style": "dashed", "background-opacity": 0.45 },
        },
        {
          selector: "edge",
          style: {
            width: "data(width)",
            "line-color": cssVar("--border-strong") || "#9aa5b1",
            "curve-style": "straight",
            opacity: 0.9,
          },
        },
        {
          // Linked by a joint programme only: dashed, so it reads without colour.
          selector: "edge[kind = 'programmes']",
          style: { "line-style": "dashed" },
        },
      ],
    });
    graph.one("render", function () {
      box.setAttribute("data-drawn", "true");
    });
    box.setAttribute("data-nodes", String(graph.nodes().length));
    box.setAttribute("data-links", String(graph.edges().length));
  }

  document.querySelectorAll("[data-network]").forEach(drawNetwork);
})();
