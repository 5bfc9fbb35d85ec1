<?php
/**
 * The interface of loaded classes, by reflection, as the lines of
 * tests/fossbilling/signatures.json: per class its declaration line and, per method and
 * property it declares itself that is not private, one PHP-like line — visibility,
 * static/abstract/final, each parameter's type, name and default, the return type
 * (`public abstract function createAccount(Server_Account $account)`). Private members are
 * implementation, not interface, and are left out.
 *
 * InterfaceTest uses it on the stand-in and on the manager. The table was recorded from
 * FOSSBilling's own files, with a bootstrap that loads them (not part of this repository):
 *     php tests/fossbilling/signature.php BOOTSTRAP.php
 * Without an argument it describes tests/fossbilling/standin.php.
 */

declare(strict_types=1);

namespace FossbillingSignature;

const CLASSES = ['FOSSBilling\Exception', 'Server_Exception', 'Server_Manager', 'Server_Account', 'Server_Client',
    'Server_Package'];

function value(mixed $value): string
{
    return json_encode($value, JSON_UNESCAPED_SLASHES | JSON_UNESCAPED_UNICODE | JSON_THROW_ON_ERROR);
}

function parameter(\ReflectionParameter $parameter): string
{
    $type = $parameter->getType();
    $text = ($type === null ? '' : $type . ' ') . ($parameter->isPassedByReference() ? '&' : '')
        . ($parameter->isVariadic() ? '...' : '') . '$' . $parameter->getName();
    if ($parameter->isDefaultValueAvailable()) {
        $text .= ' = ' . ($parameter->isDefaultValueConstant() ? $parameter->getDefaultValueConstantName()
            : value($parameter->getDefaultValue()));
    }
    return $text;
}

/** `(params)` and `: return` of a method: what an override must keep (InterfaceTest). */
function parameters(\ReflectionMethod $method): string
{
    return '(' . implode(', ', array_map(parameter(...), $method->getParameters())) . ')';
}

function method(\ReflectionMethod $method): string
{
    $return = $method->getReturnType();
    return implode(' ', array_filter([
        $method->isPublic() ? 'public' : 'protected',
        $method->isStatic() ? 'static' : '',
        $method->isAbstract() ? 'abstract' : '',
        $method->isFinal() ? 'final' : '',
        'function',
    ])) . ' ' . $method->getName() . parameters($method) . ($return === null ? '' : ': ' . $return);
}

/** One class: what it declares itself (an inherited member belongs to its own class). */
function describe(string $name): array
{
    $class = new \ReflectionClass($name);
    $parent = $class->getParentClass();
    $methods = [];
    foreach ($class->getMethods() as $member) {
        if ($member->getDeclaringClass()->getName() === $class->getName() && !$member->isPrivate()) {
            $methods[$member->getName()] = method($member);
        }
    }
    ksort($methods);
    $properties = [];
    $defaults = $class->getDefaultProperties();
    foreach ($class->getProperties() as $member) {
        if ($member->getDeclaringClass()->getName() === $class->getName() && !$member->isPrivate()) {
            $type = $member->getType();
            $properties[$member->getName()] = ($member->isPublic() ? 'public' : 'protected')
                . ($member->isStatic() ? ' static' : '') . ($type === null ? '' : ' ' . $type)
                . ' $' . $member->getName() . ' = ' . value($defaults[$member->getName()] ?? null);
        }
    }
    ksort($properties);
    return [
        'class' => ($class->isAbstract() ? 'abstract ' : '') . ($class->isFinal() ? 'final ' : '') . 'class '
            . $class->getName() . ($parent === false ? '' : ' extends ' . $parent->getName()),
        'methods' => $methods,
        'properties' => $properties,
    ];
}

/** @return array<string, array> every class of CLASSES (they must be loaded) */
function describeAll(): array
{
    $out = [];
    foreach (CLASSES as $name) {
        $out[$name] = describe($name);
    }
    return $out;
}

if (PHP_SAPI === 'cli' && realpath((string) ($_SERVER['SCRIPT_FILENAME'] ?? '')) === __FILE__) {
    require $argv[1] ?? __DIR__ . '/standin.php';
    echo json_encode(describeAll(), JSON_PRETTY_PRINT | JSON_UNESCAPED_SLASHES | JSON_UNESCAPED_UNICODE
        | JSON_THROW_ON_ERROR), "\n";
}
