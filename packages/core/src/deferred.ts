export class Deferred<T> { declare x: T; }
