/** Types shared by the report's sections. */

/** One SVG chart: its file name (beside report.md) and content. */
export interface ReportChart {
  file: string;
  svg: string;
}

/** One row of the headline table (README and the top of the report). */
export interface HeadlineRow {
  measure: string;
  mixseg: string;
  sklearn: string;
  dipy: string;
  /** mixseg / scikit-learn, paired within repetitions where that applies. */
  ratio: string;
}

/** What a section renderer returns. */
export interface ReportSection {
  /** Markdown, starting with its "## " heading. */
  markdown: string;
  charts: ReportChart[];
  headline: HeadlineRow[];
}
