/** The config speaks seconds (lua-resty-checkups), the model milliseconds: the one conversion each way. */
export const secondsToMs = (s: number): number => Math.round(s * 1000);
export const msToSeconds = (ms: number): number => ms / 1000;
