// Where the SDK says what went wrong without throwing: `createHub({ logger })`, the console by default.
export interface Logger {
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

export const consoleLogger: Logger = {
  info: () => {},
  warn: (message) => console.warn(message),
  error: (message) => console.error(message),
};
