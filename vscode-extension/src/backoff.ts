/**
 * When to restart a crashed server: after 1, 2, 4, 8, 16 s, and not at all after too many crashes close
 * together (then the user gets a message with "Open logs"). A crash long after the last one starts the
 * count again, so a server that crashes once a day is always brought back.
 */

export interface RestartPolicyOptions {
    /** Delay before the n-th restart in a row (the last one repeats). */
    delaysMs: readonly number[];
    /** Crashes within `windowMs` after which restarting stops. */
    maxCrashes: number;
    windowMs: number;
}

export const DEFAULT_RESTART_POLICY: RestartPolicyOptions = {
    delaysMs: [1000, 2000, 4000, 8000, 16000],
    maxCrashes: 5,
    windowMs: 3 * 60 * 1000,
};

export type RestartDecision = { restart: true; delayMs: number; crashes: number } | { restart: false; crashes: number };

export class RestartPolicy {
    private crashTimes: number[] = [];

    constructor(private readonly options: RestartPolicyOptions = DEFAULT_RESTART_POLICY) {}

    /** Record a crash at `now` (ms) and decide. */
    onCrash(now: number): RestartDecision {
        this.crashTimes = this.crashTimes.filter((time) => now - time < this.options.windowMs);
        this.crashTimes.push(now);
        const crashes = this.crashTimes.length;
        if (crashes >= this.options.maxCrashes) {
            return { restart: false, crashes };
        }
        const delays = this.options.delaysMs;
        return { restart: true, delayMs: delays[Math.min(crashes - 1, delays.length - 1)], crashes };
    }

    /** Crashes counted in the current window. */
    get recentCrashes(): number {
        return this.crashTimes.length;
    }

    /** The user restarted by hand: start counting afresh. */
    reset(): void {
        this.crashTimes = [];
    }
}

/** The delays a server crashing over and over would see, then `null` for "gave up" (docs and tests). */
export function restartSchedule(options: RestartPolicyOptions = DEFAULT_RESTART_POLICY): (number | null)[] {
    const policy = new RestartPolicy(options);
    const out: (number | null)[] = [];
    for (let i = 0; i < options.maxCrashes; i++) {
        const decision = policy.onCrash(0);
        out.push(decision.restart ? decision.delayMs : null);
    }
    return out;
}
