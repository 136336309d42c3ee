/**
 * Runs cleanup steps in reverse order of `add` (last started, first stopped), every one even if another throws;
 * a failing step is reported on stderr with its name and does not hide the others.
 */
export class Cleanup {
  private steps: Array<{ what: string; fn: () => unknown }> = [];
  add(what: string, fn: () => unknown): void {
    this.steps.push({ what, fn });
  }
  async run(): Promise<void> {
    const steps = this.steps.reverse();
    this.steps = [];
    for (const s of steps) {
      try {
        await s.fn();
      } catch (e) {
        console.warn(`[cleanup] "${s.what}" failed: ${(e as Error).message}`);
      }
    }
  }
}
